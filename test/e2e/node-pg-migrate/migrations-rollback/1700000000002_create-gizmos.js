/* Creates and fills public.gizmos, which the next migration retires. */
exports.up = (pgm) => {
  pgm.createTable('gizmos', {
    id: 'id',
    label: { type: 'text', notNull: true },
  });
  pgm.sql(`INSERT INTO gizmos (label) SELECT 'gizmo ' || g FROM generate_series(1, 40) g`);
};

exports.down = (pgm) => {
  pgm.sql("SET LOCAL migsafe.approve = 'public.gizmos'");
  pgm.dropTable('gizmos');
  pgm.sql('RESET migsafe.approve');
};
