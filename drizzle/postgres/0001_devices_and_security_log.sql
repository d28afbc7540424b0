CREATE TABLE "security_event" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"session_id" text,
	"type" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"ip_address" text,
	"user_agent" text,
	"detail" text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
ALTER TABLE "session" ADD COLUMN "known_networks" text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX "security_event_user_created_idx" ON "security_event" USING btree ("user_id","created_at");