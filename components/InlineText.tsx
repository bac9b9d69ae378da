// Lab prose (tasks, hints, failure messages) is plain text with `code` spans and blank-line
// paragraphs: a course author writes it in lab.ts without any markup beyond that.
export function InlineText({ text }: { text: string }) {
  return text.split(/`([^`]+)`/).map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part));
}

export function Paragraphs({ text }: { text: string }) {
  return text.split(/\n\s*\n/).map((paragraph, index) => (
    <p key={index}>
      <InlineText text={paragraph.replace(/\s*\n\s*/g, ' ')} />
    </p>
  ));
}
