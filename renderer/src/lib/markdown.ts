// A small, safe reading of Markdown instructions: headings, paragraphs, bullet and numbered
// lists, fenced code, and **bold**, *italic* and `code` inside a line (underscores stay text:
// snake_case names are common in instructions). It makes data, never HTML:
// components render the blocks as elements, so a teacher's text can never become markup. Pure.

export type Inline = { kind: 'text' | 'strong' | 'em' | 'code'; text: string };

export type Block =
  | { kind: 'heading'; level: 2 | 3 | 4; content: Inline[] }
  | { kind: 'paragraph'; content: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }
  | { kind: 'code'; text: string };

const HEADING = /^(#{1,6})\s+(.*)$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const FENCE = /^\s*```/;

/** The blocks of `source`; anything it does not recognise stays as plain text. */
export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length > 0) blocks.push({ kind: 'paragraph', content: parseInline(paragraph.join('\n')) });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (FENCE.test(line)) {
      endParagraph();
      const code: string[] = [];
      while (++i < lines.length && !FENCE.test(lines[i]!)) code.push(lines[i]!);
      blocks.push({ kind: 'code', text: code.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      endParagraph();
      // The page's own headings are h1 and h2; the teacher's start below them.
      const level = Math.min(heading[1]!.length + 1, 4) as 2 | 3 | 4;
      blocks.push({ kind: 'heading', level, content: parseInline(heading[2]!) });
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (bullet || numbered) {
      endParagraph();
      const ordered = numbered !== null;
      const last = blocks[blocks.length - 1];
      const item = parseInline((bullet ?? numbered)![1]!);
      if (last?.kind === 'list' && last.ordered === ordered && previousWasItem(lines, i)) last.items.push(item);
      else blocks.push({ kind: 'list', ordered, items: [item] });
      continue;
    }
    if (line.trim() === '') endParagraph();
    else paragraph.push(line);
  }
  endParagraph();
  return blocks;
}

function previousWasItem(lines: string[], i: number): boolean {
  const previous = lines[i - 1];
  return previous !== undefined && (BULLET.test(previous) || NUMBERED.test(previous));
}

const INLINE = /(\*\*[^*\n]+\*\*|`[^`\n]+`|\*[^*\s][^*\n]*\*)/;

/** Bold, italic and code spans in one piece of text; the rest is text. */
export function parseInline(text: string): Inline[] {
  const parts: Inline[] = [];
  for (const piece of text.split(INLINE)) {
    if (piece === '') continue;
    if (piece.length > 4 && piece.startsWith('**') && piece.endsWith('**')) {
      parts.push({ kind: 'strong', text: piece.slice(2, -2) });
    } else if (piece.startsWith('`') && piece.endsWith('`') && piece.length > 1) {
      parts.push({ kind: 'code', text: piece.slice(1, -1) });
    } else if (piece.length > 2 && piece.startsWith('*') && piece.endsWith('*')) {
      parts.push({ kind: 'em', text: piece.slice(1, -1) });
    } else {
      parts.push({ kind: 'text', text: piece });
    }
  }
  return parts;
}
