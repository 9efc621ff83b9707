DROP TABLE rectification_numbers;
DROP TABLE rectification_attachments;
DROP TABLE rectifications;
