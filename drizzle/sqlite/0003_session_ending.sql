CREATE TABLE `session_ending` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`ended_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `session_ending_expires_at_idx` ON `session_ending` (`expires_at`);