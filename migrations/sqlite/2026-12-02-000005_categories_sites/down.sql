DROP TABLE sites;
DROP TABLE categories;
