/**
 * A small well-formedness check for the generated SVG and HTML (no XML parser is a dependency):
 * every element closed in order, no raw '<' or bare '&' in text or attribute values, attributes quoted.
 */

const VOID_HTML = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'col', 'wbr']);
const ENTITY = /&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);/g;

export function wellFormedProblems(markup: string, { html = false } = {}): string[] {
  const problems: string[] = [];
  const source = markup.replace(/^<!DOCTYPE html>/i, '');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"<]*")?)*)\s*(\/?)>/g;
  let last = 0;
  const checkText = (text: string, where: number) => {
    if (text.includes('<')) problems.push(`raw '<' near ${where}: ${text.slice(0, 40)}`);
    if (text.replace(ENTITY, '').includes('&')) problems.push(`bare '&' near ${where}: ${text.slice(0, 40)}`);
  };
  // The page's own <style> holds CSS, not markup.
  const withoutStyle = source.replace(/<style>[\s\S]*?<\/style>/g, '<style></style>');
  for (const match of withoutStyle.matchAll(tag)) {
    const index = match.index ?? 0;
    checkText(withoutStyle.slice(last, index), index);
    last = index + match[0].length;
    const [, closing, name = '', attributes = '', selfClosing] = match;
    for (const value of attributes.matchAll(/="([^"]*)"/g)) checkText(value[1] ?? '', index);
    const lower = name.toLowerCase();
    if (closing) {
      const open = stack.pop();
      if (open !== lower) problems.push(`</${name}> closes <${open ?? 'nothing'}> near ${index}`);
    } else if (!selfClosing && !(html && VOID_HTML.has(lower))) {
      stack.push(lower);
    }
  }
  checkText(withoutStyle.slice(last), last);
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(' > ')}`);
  return problems;
}
