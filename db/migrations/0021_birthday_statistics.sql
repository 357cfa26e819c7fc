-- 0016 rebuilt the (month, day) birthday indexes, and an expression index has statistics only once its table
-- is analysed: until autovacuum happens to analyse client (it waits for a tenth of the rows to change, which on
-- a settled base can be months), the planner guesses the birthday ranges of Today and of the list's
-- next-birthday sort, and on a million clients it guessed a reversed first page into a one-second scan.
ANALYZE public.client;
ANALYZE public.relative;
