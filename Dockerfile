# syntax=docker/dockerfile:1
# The switchyard-broker image, built from the repository root:
#
#   docker build -t switchyard-broker .
#   docker run --rm -p 9090:9090 -p 9091:9091 switchyard-broker --host 0.0.0.0 --monitor 0.0.0.0:9091
#
# Arguments after the image name are the broker's flags (switchyard-broker --help); SWITCHYARD_*
# variables work too. deploy/kubernetes runs it as a fleet (README "Running a fleet").

ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Build with pnpm 10, installed as the README's set-up installs it (not with corepack, which
#    Node 25 no longer ships): install from the lockfile, build the broker and the packages it
#    uses, then deploy it on its own.
FROM ${NODE_IMAGE} AS build
RUN npm install -g pnpm@10
WORKDIR /src
# The lockfile alone fills pnpm's store, so this layer is reused until the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
RUN pnpm --filter "@switchyard/broker-server..." run build
# The broker with its production dependencies only, the workspace packages it uses copied in. Not
# --offline: a legacy deploy resolves the broker's dependencies again, optional peers included,
# and needs registry metadata that pnpm fetch does not keep (the tarballs come from the store).
RUN pnpm --filter @switchyard/broker-server deploy --prod --legacy --prefer-offline /out

# 2. Run: Node and the deployed broker, nothing else, not as root. Node is PID 1 and handles
#    SIGTERM itself: the broker drains, then exits 0.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
COPY --from=build /out /opt/switchyard-broker
RUN ln -s /opt/switchyard-broker/bin/switchyard-broker.js /usr/local/bin/switchyard-broker
# The image's node user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 9090 9091
# Node itself runs the script, so that it takes the heap flag (README "Large bodies and the heap").
ENTRYPOINT ["node", "--initial-old-space-size=64", "/opt/switchyard-broker/bin/switchyard-broker.js"]
CMD ["--host", "0.0.0.0"]
