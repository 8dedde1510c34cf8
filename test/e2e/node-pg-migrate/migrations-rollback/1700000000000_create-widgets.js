/*
 * The same migration as migrations/1700000000000_create-widgets.js, with
 * the migsafe approval its down migration needs.  node-pg-migrate runs
 * each migration in a transaction, so SET LOCAL holds until its COMMIT;
 * with --single-transaction (the default) that transaction also holds the
 * migrations run after this one, hence the RESET at the end.
 */
exports.up = (pgm) => {
  pgm.createTable('widgets', {
    id: 'id',
    name: { type: 'text', notNull: true },
    qty: { type: 'integer', notNull: true },
  });
  pgm.sql(`INSERT INTO widgets (name, qty)
           SELECT 'widget ' || g, g * 3 % 97 FROM generate_series(1, 250) g`);
};

exports.down = (pgm) => {
  pgm.sql("SET LOCAL migsafe.approve = 'public.widgets'");
  pgm.sql("SET LOCAL migsafe.reason = 'e2e: widgets are gone'");
  pgm.dropTable('widgets');
  pgm.sql('RESET migsafe.approve');
  pgm.sql('RESET migsafe.reason');
};
