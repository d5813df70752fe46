// ESLint rule "metaq/one-door": each folder under src/ is a room whose only
// door is its index.ts. A file may import any file of its own folder or of a
// folder that contains it (a sub-room may use its house), but anything else in
// src/ only through that folder's index. Keeps internals free to change.
import path from 'node:path';

const SOURCE_EXT = /\.(?:js|ts|mjs|mts)$/;

/** True when `dir` is `ancestor` or lies inside it. */
function isWithin(dir, ancestor) {
  return dir === ancestor || dir.startsWith(ancestor + path.sep);
}

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: { description: "import another folder's files only through its index.ts" },
    schema: [
      {
        type: 'object',
        properties: { root: { type: 'string' } },
        required: ['root'],
        additionalProperties: false,
      },
    ],
    messages: {
      bypass:
        "'{{spec}}' reaches inside {{folder}}/ past its door: import '{{door}}' instead (or export what you need from {{folder}}/index.ts).",
    },
  },
  create(context) {
    const root = path.resolve(context.options[0].root);
    const importer = path.resolve(context.filename);
    const importerDir = path.dirname(importer);

    function check(node, spec) {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.resolve(importerDir, spec);
      const targetDir = path.dirname(target);
      if (!isWithin(targetDir, root)) return;
      if (isWithin(importerDir, targetDir)) return;
      if (path.basename(target).replace(SOURCE_EXT, '') === 'index') return;
      const doorAbs = path.join(targetDir, 'index.js');
      let door = path.relative(importerDir, doorAbs).split(path.sep).join('/');
      if (!door.startsWith('.')) door = `./${door}`;
      context.report({
        node,
        messageId: 'bypass',
        data: { spec, folder: path.relative(root, targetDir).split(path.sep).join('/') || '.', door },
      });
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};
