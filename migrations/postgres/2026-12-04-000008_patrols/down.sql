DROP TABLE patrol_items;
DROP TABLE patrol_visits;
DROP TABLE patrol_points;
DROP TABLE patrols;
