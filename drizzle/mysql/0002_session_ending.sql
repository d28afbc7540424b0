CREATE TABLE `session_ending` (
	`token_hash` varchar(64) NOT NULL,
	`reason` text NOT NULL,
	`ended_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `session_ending_token_hash` PRIMARY KEY(`token_hash`)
);
--> statement-breakpoint
CREATE INDEX `session_ending_expires_at_idx` ON `session_ending` (`expires_at`);