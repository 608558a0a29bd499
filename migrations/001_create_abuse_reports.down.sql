DROP TABLE IF EXISTS abuse_reports;
