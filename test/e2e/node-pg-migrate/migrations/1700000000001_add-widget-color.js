/* Adds widgets.color; its down migration drops the column. */
exports.up = (pgm) => {
  pgm.addColumn('widgets', { color: { type: 'text' } });
  pgm.sql(`UPDATE widgets SET color = (ARRAY['red', 'green', 'blue'])[id % 3 + 1]`);
};

exports.down = (pgm) => {
  pgm.dropColumn('widgets', 'color');
};
