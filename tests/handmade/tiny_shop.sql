-- The January tiny shop, the orders of the dbt fixture's story (tests/dbt/conftest.py, the
-- README's last section): few enough rows to check every mart number by hand. Its rows, on
-- the orders database's one schema (include/cxw_demo/orders_schema.sql, sources.md §3;
-- loaded by tests/handmade/shop.py); timestamps are UTC ISO text as SQLite keeps them.

insert into customers values
    (1, ' Ada.Lovelace@Example.com', 'Ada', 'Lovelace', 'GB', true, '2026-01-01 09:00:00', '2026-01-01 09:00:00'),
    (2, 'grace@example.com', 'Grace', 'Hopper', 'US', false, '2026-01-01 12:30:00', '2026-01-02 08:00:00'),
    (3, 'ALAN@example.com ', 'Alan', 'Turing', 'GB', true, '2026-01-02 15:00:00', '2026-01-02 15:00:00');

insert into products values
    (1, 'BK-0001', 'Notes on the Analytical Engine', 'books', 25.00, '2026-01-01 00:00:00'),
    (2, 'RV-0001', 'Custom book review', 'reviews', 40.00, '2026-01-01 00:00:00');

-- Day 1 (2026-01-01): orders 100, 101 (101 cancelled on day 2), 102 placed late evening.
-- Day 2 (2026-01-02): order 103; order 100 delivered.
insert into orders values
    (100, 1, 'delivered', 'EUR', 50.00, 5.00, 10.00, 65.00, '2026-01-01 10:00:00', '2026-01-04', '2026-01-01 18:00:00', '2026-01-02 11:00:00', '2026-01-02 11:00:00'),
    (101, 2, 'cancelled', 'EUR', 25.00, 5.00, 5.00, 35.00, '2026-01-01 13:00:00', '2026-01-05', null, null, '2026-01-02 09:00:00'),
    (102, 2, 'paid', 'EUR', 40.00, 0.00, 8.00, 48.00, '2026-01-01 23:30:00', '2026-01-06', null, null, '2026-01-01 23:30:00'),
    (103, 3, 'paid', 'EUR', 25.00, 5.00, 5.00, 35.00, '2026-01-02 16:00:00', '2026-01-07', null, null, '2026-01-02 16:00:00');

insert into order_items values
    (1000, 100, 1, 2, 25.00, '2026-01-01 10:00:00'),
    (1001, 101, 1, 1, 25.00, '2026-01-01 13:00:00'),
    (1002, 102, 2, 1, 40.00, '2026-01-01 23:30:00'),
    (1003, 103, 1, 1, 25.00, '2026-01-02 16:00:00');
