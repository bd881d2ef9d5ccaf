import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations into migrations/ from src/db/schema.ts. Read the SQL, then commit it.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./migrations",
  casing: "snake_case",
});
