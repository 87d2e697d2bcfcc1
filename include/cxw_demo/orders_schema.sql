-- The demo shop's orders database (sources.md §3). Portable DDL: SQLite and PostgreSQL.
-- Timestamps are UTC; SQLite keeps them as 'YYYY-MM-DD HH:MM:SS' text, dates as 'YYYY-MM-DD'.
create table customers (
    id bigint primary key,
    email text not null,
    first_name text,
    last_name text,
    country text,
    marketing_opt_in boolean not null,
    created_at timestamp not null,
    updated_at timestamp not null
);

create table products (
    id bigint primary key,
    sku text not null unique,
    title text not null,
    category text not null,
    price numeric(18, 2) not null,
    updated_at timestamp not null
);

create table orders (
    id bigint primary key,
    customer_id bigint not null references customers (id),
    status text not null
        check (status in ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    currency text not null,
    subtotal numeric(18, 2) not null,
    shipping numeric(18, 2) not null,
    tax numeric(18, 2) not null,
    total numeric(18, 2) not null,
    placed_at timestamp not null,
    promised_delivery_date date,
    shipped_at timestamp,
    delivered_at timestamp,
    updated_at timestamp not null
);

create table order_items (
    id bigint primary key,
    order_id bigint not null references orders (id),
    product_id bigint not null references products (id),
    quantity integer not null,
    unit_price numeric(18, 2) not null,
    updated_at timestamp not null
);

create table refunds (
    id bigint primary key,
    order_id bigint not null references orders (id),
    amount numeric(18, 2) not null,
    reason text,
    created_at timestamp not null
);

-- Incremental extraction reads by these columns.
create index customers_updated_at_idx on customers (updated_at);
create index products_updated_at_idx on products (updated_at);
create index orders_updated_at_idx on orders (updated_at);
create index order_items_updated_at_idx on order_items (updated_at);
create index refunds_created_at_idx on refunds (created_at);
