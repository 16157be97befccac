# Switchboard image: `docker build -t switchboard .`; the role comes from the mounted config or
# SWITCHBOARD_ROLE (see docker-compose.yml).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.json ./
COPY packages ./packages
COPY e2e/package.json e2e/tsconfig.json ./e2e/
COPY bench/package.json bench/tsconfig.json ./bench/
RUN npm ci --no-audit --no-fund && npx turbo run build --filter='./packages/*' && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY bin ./bin
EXPOSE 9080 9180 7085
ENTRYPOINT ["node", "bin/switchboard"]
CMD ["start", "--config", "/etc/switchboard/config.yaml"]
