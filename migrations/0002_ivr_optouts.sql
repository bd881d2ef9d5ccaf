CREATE TABLE "ivr_menus" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"text" text NOT NULL,
	"tree" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opt_outs" (
	"phone" text PRIMARY KEY NOT NULL,
	"opted_out" boolean NOT NULL,
	"word" text NOT NULL,
	"message" text NOT NULL,
	"event_at" timestamp with time zone NOT NULL,
	"account" text NOT NULL,
	"callback_id" bigint NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "opt_outs_opted_out_idx" ON "opt_outs" USING btree ("event_at" DESC NULLS LAST) WHERE "opt_outs"."opted_out";--> statement-breakpoint
CREATE UNIQUE INDEX "incoming_messages_callback_key" ON "incoming_messages" USING btree ("phone","callback_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ivr_events_callback_key" ON "ivr_events" USING btree ("callback_id");--> statement-breakpoint
CREATE UNIQUE INDEX "waitcall_events_callback_key" ON "waitcall_events" USING btree ("phone","callback_id");