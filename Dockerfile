# One image for every service of compose.yaml (each runs `node <svc>/src/main.ts`): Node
# runs the TypeScript sources directly, so there is no build step, only the dependencies.
# The whole repository goes in (less .dockerignore) and npm ci installs every workspace, so a
# new service needs no line here; the price is that a source change reinstalls the packages.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# As stack/bin/lib.sh: KafkaJS 2.2's harmless negative-timeout warning, silenced.
ENV NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning
COPY . .
# The root postinstall applies patches/ with patch-package (the PostgreSQL driver's fix).
RUN npm ci --omit=dev --no-audit --no-fund
USER node
