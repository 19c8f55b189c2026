// CSS imports are bundled by esbuild into status-page.css; to TypeScript they are side effects only.
declare module "*.css";
