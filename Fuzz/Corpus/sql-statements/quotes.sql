-- whisper:no-transaction
CREATE INDEX CONCURRENTLY i ON t (c);
SELECT $q$;$q$, E'\';', "a;b" /* x /* y */ ; */;
