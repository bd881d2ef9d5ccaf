// `npm run test:faults` needs a PostgreSQL server: say so in one line and exit 2 when DATABASE_URL is unset.
if (!process.env.DATABASE_URL) {
  process.stderr.write(
    "npm run test:faults needs a PostgreSQL server: set DATABASE_URL, for example\n" +
      "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run test:faults\n" +
      "(these tests cut the database's connections, which the embedded database cannot do)\n",
  );
  process.exit(2);
}
