# syntax=docker/dockerfile:1
#
# The mcp-gate image: built on Node.js 26 ("Lithium", Active LTS since 2026-10-28), run on a
# distroless Node.js 26 image that has no shell and no package manager, as its non-root user.
#
#   docker build -t mcp-gate .
#   docker run --rm mcp-gate --version
#
# test/integration/image-layout.test.ts rebuilds the last stage's file layout from this file (its
# COPY lines and the `production-deps` stage's RUN lines) and runs `--version`, `validate` and
# `serve` from it, so nothing at run time may need a dev dependency. Keep every RUN of
# `production-deps` an `npm ci` and every COPY of the last stage a plain `COPY [--from=STAGE] SRC...
# DEST` for that test to read. docs/kubernetes.md says how to pin the base images by digest.

# Both may carry an @sha256 digest (docs/kubernetes.md). Build and run on the same Node.js
# major: the runtime image is named by major only.
ARG BUILD_IMAGE=node:26.11.1-trixie-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs26-debian13:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; no dependency needs its
# install script (protobufjs's only checks its optional CLI).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM ${BUILD_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
# Without dev dependencies there is no tsc, so `prepare` must not run here either.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# package.json makes dist/*.js ES modules ("type": "module") and carries the --version.
COPY package.json ./
COPY proto ./proto
# The bundled known-MCP-host list (serve's default) and the example allowlist.
COPY deploy/known-mcp-hosts.yaml deploy/allowlist.yaml ./deploy/
# The distroless image's own non-root user (65532); Kubernetes' runAsNonRoot needs it numeric.
USER 65532:65532
EXPOSE 9191 9192
# Exec form: node is PID 1 and receives SIGTERM itself (npm start would not pass it on).
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
CMD ["serve", "--allowlist", "deploy/allowlist.yaml", "--grpc-listen", "0.0.0.0:9191"]
