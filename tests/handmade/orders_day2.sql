-- Tuesday 2026-02-03's changes to the orders database (applied on top of orders_day1.sql).

-- 1001 Ada: delivered Tuesday 10:00, one day after its promised date (Monday): late.
update orders set status = 'delivered', delivered_at = '2026-02-03 10:00:00',
    updated_at = '2026-02-03 10:00:00' where id = 1001;

-- 1002 Grace: delivered on time, then 20.00 refunded for a damaged cover (no hard deletes:
-- a refund is a row; the order stays delivered).
update orders set status = 'delivered', shipped_at = '2026-02-02 16:00:00',
    delivered_at = '2026-02-03 09:00:00', updated_at = '2026-02-03 09:00:00' where id = 1002;
insert into refunds values (1, 1002, 20.00, 'damaged cover', '2026-02-03 15:00:00');

-- 1003 Grace: placed at 13:00 and cancelled at 13:30 (it counts nowhere).
-- 1005 Katherine: her second order, bought on the web (GA4 transaction_id 1005).
insert into orders values
    (1003, 2, 'cancelled', 'EUR', 25.00, 0.00, 0.00, 25.00, '2026-02-03 13:00:00', '2026-02-06', null, null, '2026-02-03 13:30:00'),
    (1005, 4, 'paid', 'EUR', 40.00, 5.00, 0.00, 45.00, '2026-02-03 16:00:00', '2026-02-06', null, null, '2026-02-03 16:00:00');
insert into order_items values
    (5, 1003, 1, 1, 25.00, '2026-02-03 13:00:00'),
    (6, 1005, 2, 1, 40.00, '2026-02-03 16:00:00');
