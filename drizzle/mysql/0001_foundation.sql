CREATE TABLE `account` (
	`id` varchar(64) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`account_id` text NOT NULL,
	`provider_id` text NOT NULL,
	`access_token` text,
	`refresh_token` text,
	`id_token` text,
	`access_token_expires_at` datetime(3),
	`refresh_token_expires_at` datetime(3),
	`scope` text,
	`password` text,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `account_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `job_lease` (
	`name` varchar(255) NOT NULL,
	`holder` varchar(64) NOT NULL,
	`expires_at` bigint NOT NULL,
	CONSTRAINT `job_lease_name` PRIMARY KEY(`name`)
);
--> statement-breakpoint
CREATE TABLE `rate_limit` (
	`id` varchar(64) NOT NULL,
	`key` varchar(512) NOT NULL,
	`count` int NOT NULL,
	`last_request` bigint NOT NULL,
	CONSTRAINT `rate_limit_id` PRIMARY KEY(`id`),
	CONSTRAINT `rate_limit_key_unique` UNIQUE(`key`)
);
--> statement-breakpoint
CREATE TABLE `rate_limit_window` (
	`key` varchar(512) NOT NULL,
	`count` int NOT NULL,
	`resets_at` bigint NOT NULL,
	CONSTRAINT `rate_limit_window_key` PRIMARY KEY(`key`)
);
--> statement-breakpoint
CREATE TABLE `security_event` (
	`id` varchar(64) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`session_id` varchar(64),
	`type` text NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`ip_address` text,
	`user_agent` text,
	`detail` varchar(2048) NOT NULL DEFAULT '{}',
	CONSTRAINT `security_event_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `session` (
	`id` varchar(64) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`token` varchar(64) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	`ip_address` text,
	`user_agent` text,
	`policy` text NOT NULL,
	`idle_seconds` int NOT NULL,
	`refresh_seconds` int NOT NULL,
	`absolute_expires_at` datetime(3),
	`known_networks` varchar(2048) NOT NULL DEFAULT '',
	`persistent` boolean NOT NULL,
	CONSTRAINT `session_id` PRIMARY KEY(`id`),
	CONSTRAINT `session_token_unique` UNIQUE(`token`)
);
--> statement-breakpoint
CREATE TABLE `user` (
	`id` varchar(64) NOT NULL,
	`name` text NOT NULL,
	`email` varchar(320) NOT NULL,
	`email_verified` boolean NOT NULL DEFAULT false,
	`image` text,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `user_id` PRIMARY KEY(`id`),
	CONSTRAINT `user_email_unique` UNIQUE(`email`)
);
--> statement-breakpoint
CREATE TABLE `verification` (
	`id` varchar(64) NOT NULL,
	`identifier` varchar(512) NOT NULL,
	`value` text NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `verification_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `account` ADD CONSTRAINT `account_user_id_user_id_fk` FOREIGN KEY (`user_id`) REFERENCES `user`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `session` ADD CONSTRAINT `session_user_id_user_id_fk` FOREIGN KEY (`user_id`) REFERENCES `user`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `account_user_id_idx` ON `account` (`user_id`);--> statement-breakpoint
CREATE INDEX `security_event_user_created_idx` ON `security_event` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `session_user_id_idx` ON `session` (`user_id`);--> statement-breakpoint
CREATE INDEX `session_expires_at_idx` ON `session` (`expires_at`);--> statement-breakpoint
CREATE INDEX `verification_identifier_idx` ON `verification` (`identifier`);