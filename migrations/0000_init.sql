CREATE TABLE "callback_keys" (
	"account" text NOT NULL,
	"phone" text NOT NULL,
	"key" text NOT NULL,
	"callback_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "callback_keys_account_phone_key_pk" PRIMARY KEY("account","phone","key")
);
--> statement-breakpoint
CREATE TABLE "callbacks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "callbacks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account" text NOT NULL,
	"kind" text NOT NULL,
	"method" text NOT NULL,
	"route" text NOT NULL,
	"content_type" text,
	"source_address" text,
	"fields" jsonb NOT NULL,
	"raw_body" "bytea",
	"raw_query" text,
	"received_at" timestamp with time zone NOT NULL,
	"phone" text,
	"smsc_id" text,
	"signature" text,
	"error" text,
	"error_detail" text
);
--> statement-breakpoint
CREATE TABLE "hlr_results" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hlr_results_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account" text NOT NULL,
	"smsc_id" text NOT NULL,
	"phone" text NOT NULL,
	"status" smallint NOT NULL,
	"err" integer NOT NULL,
	"imsi" text,
	"msc" text,
	"mcc" text,
	"mnc" text,
	"country" text,
	"network" text,
	"roaming_country" text,
	"roaming_network" text,
	"roaming" boolean,
	"event_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"callback_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incoming_messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "incoming_messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account" text NOT NULL,
	"smsc_id" text,
	"phone" text NOT NULL,
	"to_phone" text,
	"text" text NOT NULL,
	"event_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"fields" jsonb NOT NULL,
	"callback_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ivr_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ivr_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account" text NOT NULL,
	"smsc_id" text,
	"phone" text,
	"menu_path" text,
	"seconds" integer,
	"event_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"fields" jsonb NOT NULL,
	"callback_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account" text NOT NULL,
	"smsc_id" text NOT NULL,
	"phone" text NOT NULL,
	"type" smallint,
	"status" smallint,
	"err" integer,
	"final" boolean DEFAULT false NOT NULL,
	"status_at" timestamp with time zone,
	"cost" numeric(14, 4),
	"parts" integer,
	"sender" text,
	"campaign" text,
	"mcc" text,
	"mnc" text,
	"sent_at" timestamp with time zone,
	"first_status_at" timestamp with time zone,
	"last_status_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "numbers" (
	"phone" text PRIMARY KEY NOT NULL,
	"country_iso" text,
	"mcc" text,
	"mnc" text,
	"imsi" text,
	"msc" text,
	"country_name" text,
	"network" text,
	"roaming" boolean,
	"roaming_country" text,
	"roaming_network" text,
	"last_hlr_at" timestamp with time zone,
	"last_hlr_status" smallint,
	"last_hlr_err" integer,
	"last_status" smallint,
	"last_err" integer,
	"last_status_at" timestamp with time zone,
	"delivered_count" integer DEFAULT 0 NOT NULL,
	"failed_count" integer DEFAULT 0 NOT NULL,
	"last_delivered_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "status_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "status_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account" text NOT NULL,
	"smsc_id" text NOT NULL,
	"phone" text NOT NULL,
	"type" smallint,
	"status" smallint NOT NULL,
	"err" integer NOT NULL,
	"event_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"callback_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "waitcall_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "waitcall_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account" text NOT NULL,
	"phone" text NOT NULL,
	"event_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"fields" jsonb NOT NULL,
	"callback_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "callbacks_received_at_idx" ON "callbacks" USING btree ("received_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "callbacks_kind_received_at_idx" ON "callbacks" USING btree ("kind","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "callbacks_error_received_at_idx" ON "callbacks" USING btree ("received_at" DESC NULLS LAST) WHERE "callbacks"."error" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "hlr_results_answer_key" ON "hlr_results" USING btree ("phone","account","smsc_id","status","err","event_at");--> statement-breakpoint
CREATE INDEX "hlr_results_phone_event_at_idx" ON "hlr_results" USING btree ("phone","event_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "incoming_messages_phone_idx" ON "incoming_messages" USING btree ("phone","event_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "incoming_messages_event_at_idx" ON "incoming_messages" USING btree ("event_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ivr_events_phone_idx" ON "ivr_events" USING btree ("phone","event_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ivr_events_smsc_id_idx" ON "ivr_events" USING btree ("account","smsc_id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_account_smsc_id_phone_key" ON "messages" USING btree ("account","smsc_id","phone");--> statement-breakpoint
CREATE INDEX "messages_phone_idx" ON "messages" USING btree ("phone");--> statement-breakpoint
CREATE UNIQUE INDEX "status_events_change_key" ON "status_events" USING btree ("phone","account","smsc_id","status","err","event_at");--> statement-breakpoint
CREATE INDEX "status_events_received_at_idx" ON "status_events" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "waitcall_events_phone_idx" ON "waitcall_events" USING btree ("phone","event_at" DESC NULLS LAST);