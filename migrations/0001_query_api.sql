CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scope" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "delivery_rollups" (
	"hour" timestamp with time zone NOT NULL,
	"account" text NOT NULL,
	"mcc" text,
	"mnc" text,
	"country" text,
	"type" smallint,
	"sender" text,
	"campaign" text,
	"status" smallint,
	"err" integer,
	"messages" integer DEFAULT 0 NOT NULL,
	"cost" numeric(18, 4) DEFAULT '0' NOT NULL,
	"latency" integer[] NOT NULL,
	"latency_from_registered" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "delivery_rollups_cell_key" UNIQUE NULLS NOT DISTINCT("hour","account","mcc","mnc","country","type","sender","campaign","status","err")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "registered" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "valid_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "menu_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "country_iso" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "operator_mcc" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "operator_mnc" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "placed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "messages_placed_at_idx" ON "messages" USING btree ("placed_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "messages_missing_receipt_idx" ON "messages" USING btree ("valid_until") WHERE "messages"."registered" AND NOT "messages"."final";--> statement-breakpoint
CREATE INDEX "messages_phone_final_status_at_idx" ON "messages" USING btree ("phone","status_at" DESC NULLS LAST) WHERE "messages"."final";