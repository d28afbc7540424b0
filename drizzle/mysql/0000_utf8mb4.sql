-- Every table after this one is utf8mb4 with utf8mb4_bin: 4-byte UTF-8 text, and ids, tokens and
-- emails compared byte for byte. drizzle-kit writes no table options, so the database's default
-- says it (src/lib/server/db/mysql/schema.ts).
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
