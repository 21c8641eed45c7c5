-- Right to erasure. An erased request leaves every table; what remains is its id at the
-- change number of the erasure, so every desk's change feed carries the order to erase it
-- too (desks that passed the number never see it again). `change_seq` numbers come from
-- the same sequence as `requests.change_seq` (the hub takes the largest of both plus one).
CREATE TABLE erasures (
    change_seq  INTEGER PRIMARY KEY,
    request_id  TEXT NOT NULL,
    erased_at   INTEGER NOT NULL
);
