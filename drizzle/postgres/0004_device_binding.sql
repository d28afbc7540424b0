ALTER TABLE "session" ADD COLUMN "device_key" text;--> statement-breakpoint
ALTER TABLE "session" ADD COLUMN "device_bound_at" timestamp with time zone;