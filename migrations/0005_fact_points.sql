ALTER TABLE "messages" ADD COLUMN "cost_from" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "parts_from" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "sender_from" text;