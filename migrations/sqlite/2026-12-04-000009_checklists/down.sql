DROP TABLE inspection_items;
DROP TABLE inspections;
DROP TABLE checklist_versions;
DROP TABLE checklists;
