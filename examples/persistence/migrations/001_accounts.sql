CREATE TABLE accounts (
  id text PRIMARY KEY,
  balance integer NOT NULL CHECK (balance >= 0)
);
INSERT INTO accounts (id, balance) VALUES ('alice', 100), ('bob', 20);
