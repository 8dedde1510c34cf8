/*
 * The deploy that turns out bad: drops widgets.color and the gizmos table,
 * approved.  Its down migration (the rollback) adds the column and creates
 * the table again, empty; migsafe.undo('1700000000003_retire-color-and-gizmos')
 * then puts the values and rows back into them.
 */
exports.up = (pgm) => {
  pgm.sql("SET LOCAL migsafe.approve = 'public.widgets.color, public.gizmos'");
  pgm.dropColumn('widgets', 'color');
  pgm.dropTable('gizmos');
  pgm.sql('RESET migsafe.approve');
};

exports.down = (pgm) => {
  pgm.createTable('gizmos', {
    id: 'id',
    label: { type: 'text', notNull: true },
  });
  pgm.addColumn('widgets', { color: { type: 'text' } });
};
