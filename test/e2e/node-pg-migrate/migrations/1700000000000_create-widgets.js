/* Creates and fills public.widgets; its down migration drops the table. */
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
  pgm.dropTable('widgets');
};
