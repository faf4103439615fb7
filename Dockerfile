# syntax=docker/dockerfile:1
# cpiwatch processor image: a build stage compiles TypeScript and packs exactly the files the
# package publishes (package.json "files"); the runtime stage installs production dependencies
# only and runs as the unprivileged `node` user.

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /pkg \
 && tar -xzf /tmp/cpiwatch-*.tgz -C /pkg --strip-components=1 \
 && cp package-lock.json /pkg/

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=9464 \
    RULES_DIR=/app/rules
WORKDIR /app
COPY --from=build /pkg/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
USER node
EXPOSE 9464
# liveness only: a container waiting for Kafka or Redis stays healthy and reports not-ready on /readyz
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1's child under `docker run --init` / compose `init: true`; either way SIGTERM reaches it
STOPSIGNAL SIGTERM
CMD ["node", "bin/cpiwatch.js", "run", "--rules", "/app/rules"]
