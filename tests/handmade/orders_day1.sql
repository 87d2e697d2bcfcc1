-- The shop's orders database as it stands at the end of Monday 2026-02-02: its rows, on the
-- orders database's one schema (include/cxw_demo/orders_schema.sql, sources.md §3; loaded by
-- tests/handmade/shop.py). Timestamps are UTC. orders_day2.sql applies Tuesday's changes on top.

-- Emails as customers typed them: the marts must normalise (trim, lower-case) and hash them.
-- Ada signs up on Monday at 12:04, in the middle of her second web visit.
insert into customers values
    (1, ' Ada.Lovelace@Example.com', 'Ada', 'Lovelace', 'GB', true, '2026-02-02 12:04:00', '2026-02-02 12:04:00'),
    (2, 'grace@example.com', 'Grace', 'Hopper', 'US', false, '2026-01-15 09:00:00', '2026-01-15 09:00:00'),
    (3, 'ALAN.TURING@example.com', 'Alan', 'Turing', 'GB', false, '2026-01-20 09:00:00', '2026-01-20 09:00:00'),
    (4, 'katherine.johnson@example.com', 'Katherine', 'Johnson', 'US', true, '2026-01-25 09:00:00', '2026-01-25 09:00:00');

insert into products values
    (1, 'BK-0001', 'Notes on the Analytical Engine', 'books', 25.00, '2026-01-01 00:00:00'),
    (2, 'BK-0002', 'Compilers for Everyone', 'books', 40.00, '2026-01-01 00:00:00');

-- 1001 Ada: express delivery promised for Monday itself; shipped Monday afternoon.
-- 1002 Grace: promised Wednesday 2026-02-04.
-- 1004 Katherine: her first order.
insert into orders values
    (1001, 1, 'shipped', 'EUR', 50.00, 10.00, 5.00, 65.00, '2026-02-02 12:10:00', '2026-02-02', '2026-02-02 14:00:00', null, '2026-02-02 14:00:00'),
    (1002, 2, 'paid', 'EUR', 65.00, 5.00, 10.00, 80.00, '2026-02-02 09:30:00', '2026-02-04', null, null, '2026-02-02 09:30:00'),
    (1004, 4, 'paid', 'EUR', 25.00, 5.00, 0.00, 30.00, '2026-02-02 11:00:00', '2026-02-05', null, null, '2026-02-02 11:00:00');

insert into order_items values
    (1, 1001, 1, 2, 25.00, '2026-02-02 12:10:00'),
    (2, 1002, 1, 1, 25.00, '2026-02-02 09:30:00'),
    (3, 1002, 2, 1, 40.00, '2026-02-02 09:30:00'),
    (4, 1004, 1, 1, 25.00, '2026-02-02 11:00:00');
