// test:faults needs a real Postgres server: say so clearly and fail when DATABASE_URL is unset.
export default function requireDatabase(): void {
  if (!process.env.DATABASE_URL) {
    throw new Error(
      "npm run test:faults needs a PostgreSQL server: set DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/postgres). " +
        "These tests cut the database's connections and run several instances against one server, which the embedded database cannot do.",
    );
  }
}
