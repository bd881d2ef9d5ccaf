CREATE TABLE "hygiene_reports" (
	"id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"failure" text,
	"options" jsonb NOT NULL,
	"input" jsonb,
	"total_rows" integer,
	"rows_done" integer DEFAULT 0 NOT NULL,
	"summary" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hygiene_rows" (
	"report_id" text NOT NULL,
	"row_no" integer NOT NULL,
	"cells" text[] NOT NULL,
	"phone" text,
	"phone_error" text,
	"duplicate_of" integer,
	"verdict" text,
	"reason" text,
	"evidence_at" timestamp with time zone,
	"operator" text,
	"country" text,
	"roaming" boolean,
	"opted_out" boolean,
	"action" text,
	CONSTRAINT "hygiene_rows_report_id_row_no_pk" PRIMARY KEY("report_id","row_no")
);
--> statement-breakpoint
CREATE TABLE "import_lines" (
	"import_id" text NOT NULL,
	"line_no" integer NOT NULL,
	"smsc_id" text NOT NULL,
	"receipt" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "import_lines_import_id_line_no_pk" PRIMARY KEY("import_id","line_no")
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"phone_hash" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "hygiene_reports_expires_at_idx" ON "hygiene_reports" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "hygiene_rows_report_phone_idx" ON "hygiene_rows" USING btree ("report_id","phone");--> statement-breakpoint
CREATE INDEX "messages_smsc_id_phone_idx" ON "messages" USING btree ("smsc_id","phone");--> statement-breakpoint
CREATE INDEX "messages_menu_id_placed_at_idx" ON "messages" USING btree ("menu_id","placed_at") WHERE "messages"."menu_id" IS NOT NULL;