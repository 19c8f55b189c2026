import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";

/** A CPU profile of this process being recorded; `stop` writes it as a `.cpuprofile` file. */
export interface InProcessProfile {
  stop(file: string): Promise<void>;
}

/**
 * Starts V8's sampling profiler on this process (where the bench's clients run), the same
 * profile `node --cpu-prof` writes, but bracketing only the window it is started and stopped in.
 */
export async function startInProcessProfile(): Promise<InProcessProfile> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stop(file) {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
    },
  };
}
