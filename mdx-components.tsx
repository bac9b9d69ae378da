import type { MDXComponents } from 'mdx/types';
import Callout from './components/Callout';
import CodeBlock from './components/CodeBlock';
import Counters from './components/Counters';
import Exercise from './components/Exercise';
import Figure from './components/Figure';
import Lab from './components/Lab';
import Quiz from './components/Quiz';

// The tags a chapter may use in its prose, and the elements wirelab renders its own way.
const components: MDXComponents = {
  Callout,
  Figure,
  Lab,
  Counters,
  Exercise,
  Quiz,
  pre: CodeBlock,
  table: (props) => (
    <div className="table-scroll">
      <table {...props} />
    </div>
  ),
};

export function useMDXComponents(): MDXComponents {
  return components;
}
