/*
 * The same migration as migrations/1700000000001_add-widget-color.js, with
 * the migsafe approval its down migration needs (see the comment in
 * 1700000000000_create-widgets.js).
 */
exports.up = (pgm) => {
  pgm.addColumn('widgets', { color: { type: 'text' } });
  pgm.sql(`UPDATE widgets SET color = (ARRAY['red', 'green', 'blue'])[id % 3 + 1]`);
};

exports.down = (pgm) => {
  pgm.sql("SET LOCAL migsafe.approve = 'public.widgets.color'");
  pgm.dropColumn('widgets', 'color');
  pgm.sql('RESET migsafe.approve');
};
