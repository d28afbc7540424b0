ALTER TABLE `session` ADD `device_key` text;--> statement-breakpoint
ALTER TABLE `session` ADD `device_bound_at` integer;