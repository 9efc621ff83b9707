DROP INDEX rectifications_created_at;
CREATE INDEX rectifications_created_at ON rectifications (created_at);
