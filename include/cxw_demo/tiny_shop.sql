-- A hand-made orders database: few enough rows to check every mart number by hand.
-- Columns follow sources.md §3; timestamps are UTC ISO text as SQLite keeps them.
create table customers (
    id integer primary key,
    email text not null,
    first_name text,
    last_name text,
    country text,
    marketing_opt_in boolean,
    created_at timestamp not null,
    updated_at timestamp not null
);
create table products (
    id integer primary key,
    sku text not null,
    title text,
    category text,
    price numeric(18, 2),
    updated_at timestamp not null
);
create table orders (
    id integer primary key,
    customer_id integer not null,
    status text not null,
    currency text not null,
    subtotal numeric(18, 2),
    shipping numeric(18, 2),
    tax numeric(18, 2),
    total numeric(18, 2),
    placed_at timestamp not null,
    promised_delivery_date date,
    shipped_at timestamp,
    delivered_at timestamp,
    updated_at timestamp not null
);
create table order_items (
    id integer primary key,
    order_id integer not null,
    product_id integer not null,
    quantity integer not null,
    unit_price numeric(18, 2),
    updated_at timestamp not null
);
create table refunds (
    id integer primary key,
    order_id integer not null,
    amount numeric(18, 2) not null,
    reason text,
    created_at timestamp not null
);

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
