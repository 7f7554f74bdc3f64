// Evaluates a (translated) CloudFormation template for given parameter values, as CloudFormation does at deploy time:
// parameters with their defaults (a CommaDelimitedList becomes a list), Conditions, Fn::If and AWS::NoValue, resources
// dropped by their Condition, and the intrinsics these templates use (Ref, Fn::Sub, Fn::Join, Fn::Split, Fn::Select,
// Fn::Equals, Fn::Not, Fn::And, Fn::Or). What only exists once deployed stays symbolic and readable: a resource's Ref
// is `<Logical>`, Fn::GetAtt is `<Logical.Attribute>`, Fn::ImportValue is `<import:Name>`.
import { at } from './json.js';

export const ACCOUNT = '111122223333';
export const REGION = 'us-west-2';

const NO_VALUE = Symbol('AWS::NoValue');
type Value = unknown;

/** The entries of a parsed JSON object; none for anything else. */
export function entriesOf(value: Value): [string, Value][] {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
}

export interface Evaluated {
  parameters: Record<string, string | string[]>;
  conditions: Record<string, boolean>;
  resources: Record<string, Value>;
  outputs: Record<string, Value>;
}

/** Evaluates `template` with `values` (strings, as on the command line) over the parameters' defaults. Throws on a
 * missing required parameter, an unknown intrinsic or a reference to nothing. */
export function evaluateTemplate(
  template: Value,
  values: Record<string, string>,
  stackName = 'lambda-eks-demo',
): Evaluated {
  const parameters: Record<string, string | string[]> = {};
  for (const [name, declaration] of entriesOf(at(template, 'Parameters'))) {
    const raw = values[name] ?? at(declaration, 'Default');
    if (raw === undefined) throw new Error(`parameter ${name} has no value and no default`);
    parameters[name] = at(declaration, 'Type') === 'CommaDelimitedList' ? String(raw).split(',') : String(raw);
  }
  const resourceNames = new Set(entriesOf(at(template, 'Resources')).map(([name]) => name));
  const pseudo: Record<string, string> = {
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::Partition': 'aws',
    'AWS::StackName': stackName,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const conditions: Record<string, boolean> = {};

  const ref = (name: string): Value => {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in parameters) return parameters[name];
    if (name in pseudo) return pseudo[name];
    if (resourceNames.has(name)) return `<${name}>`;
    throw new Error(`Ref to nothing: ${name}`);
  };
  const sub = (text: string, variables: Record<string, Value>): string =>
    text.replace(/\$\{([^}]+)\}/g, (_whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in variables) return String(variables[name]);
      if (name.includes('.') && resourceNames.has(name.split('.')[0] ?? '')) return `<${name}>`;
      const value = ref(name);
      if (typeof value !== 'string') throw new Error(`Fn::Sub of a non-string: ${name}`);
      return value;
    });

  const evaluate = (value: Value): Value => {
    if (Array.isArray(value)) return value.map(evaluate).filter((item) => item !== NO_VALUE);
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first !== undefined && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return intrinsic(first[0], first[1]);
    }
    if (entries.length === 1 && first?.[0] === 'Condition' && typeof first[1] === 'string') {
      return condition(first[1]);
    }
    return Object.fromEntries(
      entries.map(([key, item]) => [key, evaluate(item)] as const).filter(([, item]) => item !== NO_VALUE),
    );
  };
  const list = (value: Value): Value[] => {
    const evaluated = evaluate(value);
    if (!Array.isArray(evaluated)) throw new Error(`not a list: ${JSON.stringify(evaluated)}`);
    return evaluated;
  };
  const intrinsic = (name: string, argument: Value): Value => {
    switch (name) {
      case 'Ref':
        return ref(String(argument));
      case 'Fn::GetAtt': {
        const [logical, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
        if (!resourceNames.has(String(logical))) throw new Error(`GetAtt of nothing: ${String(logical)}`);
        return `<${String(logical)}.${String(attribute)}>`;
      }
      case 'Fn::Sub': {
        if (typeof argument === 'string') return sub(argument, {});
        const [text, variables] = list(argument);
        return sub(String(text), typeof variables === 'object' && variables !== null ? { ...variables } : {});
      }
      case 'Fn::Join': {
        const [delimiter, items] = Array.isArray(argument) ? argument : [];
        return list(items).map(String).join(String(delimiter));
      }
      case 'Fn::Split': {
        const [delimiter, text] = list(argument);
        return String(text).split(String(delimiter));
      }
      case 'Fn::Select': {
        const [index, items] = Array.isArray(argument) ? argument : [];
        return list(items)[Number(evaluate(index))];
      }
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = Array.isArray(argument) ? argument : [];
        return evaluate(condition(String(name)) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [left, right] = list(argument);
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case 'Fn::Not':
        return !list(argument)[0];
      case 'Fn::And':
        return list(argument).every(Boolean);
      case 'Fn::Or':
        return list(argument).some(Boolean);
      case 'Fn::ImportValue':
        return `<import:${String(evaluate(argument))}>`;
      default:
        throw new Error(`intrinsic not evaluated here: ${name}`);
    }
  };
  const condition = (name: string): boolean => {
    if (!(name in conditions)) {
      const expression = at(template, 'Conditions', name);
      if (expression === undefined) throw new Error(`no condition ${name}`);
      conditions[name] = Boolean(evaluate(expression));
    }
    return conditions[name] ?? false;
  };

  for (const [name] of entriesOf(at(template, 'Conditions'))) condition(name);
  const resources: Record<string, Value> = {};
  for (const [logical, resource] of entriesOf(at(template, 'Resources'))) {
    const when = at(resource, 'Condition');
    if (typeof when === 'string' && !condition(when)) continue;
    resources[logical] = evaluate(resource);
  }
  const outputs: Record<string, Value> = {};
  for (const [name, output] of entriesOf(at(template, 'Outputs'))) {
    const when = at(output, 'Condition');
    if (typeof when === 'string' && !condition(when)) continue;
    outputs[name] = evaluate(output);
  }
  return { parameters, conditions, resources, outputs };
}
