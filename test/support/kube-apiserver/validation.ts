// The validation of an apps/v1 Deployment that a create or an update must pass, in kube-apiserver's words
// (pkg/apis/apps/validation/validation.go ValidateDeployment, ValidateDeploymentUpdate; pkg/apis/core/validation
// for the pod template; apimachinery pkg/util/validation/field/errors.go for the text of each error).
import { arrayAt, isObject, jsonEqual, numberAt, objectAt, stringAt, stringMapAt, valueAt, type Json } from './json.js';
import type { FieldError } from './status.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const invalidValue = (field: string, shown: string, detail: string): FieldError => ({
  field,
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${shown}: ${detail}`,
});
const required = (field: string, detail?: string): FieldError => ({
  field,
  reason: 'FieldValueRequired',
  message: detail === undefined ? 'Required value' : `Required value: ${detail}`,
});

/** Go's %#v of a map[string]string: keys sorted, `map[string]string{"a":"b", "c":"d"}`. */
export function goStringMap(map: Readonly<Record<string, string>> | undefined): string {
  if (map === undefined) return 'map[string]string(nil)';
  const entries = Object.keys(map)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(map[key])}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** Go's %#v of a metav1.LabelSelector, as immutable-field errors print it. */
export function goLabelSelector(selector: Json | undefined): string {
  const matchLabels = objectAt(selector, 'matchLabels');
  const expressions = arrayAt(selector, 'matchExpressions');
  const labels =
    matchLabels === undefined ? 'map[string]string(nil)' : goStringMap(stringMapAt(selector, 'matchLabels'));
  const shownExpressions =
    expressions.length === 0
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${expressions
          .map((expression) => {
            const values = arrayAt(expression, 'values').map((value) => JSON.stringify(value));
            return (
              `v1.LabelSelectorRequirement{Key:${JSON.stringify(stringAt(expression, 'key') ?? '')}, ` +
              `Operator:${JSON.stringify(stringAt(expression, 'operator') ?? '')}, ` +
              `Values:${values.length === 0 ? '[]string(nil)' : `[]string{${values.join(', ')}}`}}`
            );
          })
          .join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${shownExpressions}}`;
}

/** Every error in a Deployment being created (or, with `old`, updated), in the order the server lists them. */
export function validateDeployment(deployment: Json, old?: Json): FieldError[] {
  const errors: FieldError[] = [];
  const name = stringAt(deployment, 'metadata', 'name') ?? '';
  if (name === '') {
    errors.push(required('metadata.name', 'name or generateName is required'));
  } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    errors.push(
      invalidValue(
        'metadata.name',
        JSON.stringify(name),
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must " +
          "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
          "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    );
  }
  const replicas = numberAt(deployment, 'spec', 'replicas');
  if (replicas !== undefined && replicas < 0) {
    errors.push(invalidValue('spec.replicas', String(replicas), 'must be greater than or equal to 0'));
  }
  const selector = valueAt(deployment, 'spec', 'selector');
  const matchLabels = stringMapAt(deployment, 'spec', 'selector', 'matchLabels');
  const labels = stringMapAt(deployment, 'spec', 'template', 'metadata', 'labels');
  if (!isObject(selector)) {
    errors.push(required('spec.selector'));
  } else if (Object.keys(matchLabels).length === 0 && arrayAt(selector, 'matchExpressions').length === 0) {
    errors.push(invalidValue('spec.selector', goLabelSelector(selector), 'empty selector is invalid for deployment'));
  } else if (Object.entries(matchLabels).some(([key, value]) => labels[key] !== value)) {
    errors.push(
      invalidValue('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'),
    );
  }
  const containers = valueAt(deployment, 'spec', 'template', 'spec', 'containers');
  if (!Array.isArray(containers) || containers.length === 0) {
    errors.push(required('spec.template.spec.containers'));
  } else {
    containers.forEach((container, index) => {
      const field = `spec.template.spec.containers[${index}]`;
      const containerName = stringAt(container, 'name') ?? '';
      if (containerName === '') errors.push(required(`${field}.name`));
      else if (!DNS1123_LABEL.test(containerName) || containerName.length > 63) {
        errors.push(
          invalidValue(
            `${field}.name`,
            JSON.stringify(containerName),
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start " +
              "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is " +
              "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
          ),
        );
      }
      const image = stringAt(container, 'image');
      if (image === undefined || image === '') errors.push(required(`${field}.image`));
      else if (image.trim() !== image) {
        errors.push(
          invalidValue(`${field}.image`, JSON.stringify(image), 'must not have leading or trailing whitespace'),
        );
      }
    });
  }
  const restartPolicy = stringAt(deployment, 'spec', 'template', 'spec', 'restartPolicy');
  if (restartPolicy !== undefined && restartPolicy !== 'Always') {
    errors.push({
      field: 'spec.template.spec.restartPolicy',
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(restartPolicy)}: supported values: "Always"`,
    });
  }
  const progressDeadline = numberAt(deployment, 'spec', 'progressDeadlineSeconds');
  const minReady = numberAt(deployment, 'spec', 'minReadySeconds') ?? 0;
  if (progressDeadline !== undefined && progressDeadline <= minReady) {
    errors.push(
      invalidValue('spec.progressDeadlineSeconds', String(progressDeadline), 'must be greater than minReadySeconds'),
    );
  }
  if (old !== undefined && !jsonEqual(valueAt(old, 'spec', 'selector'), selector)) {
    errors.push(invalidValue('spec.selector', goLabelSelector(selector), 'field is immutable'));
  }
  return errors;
}
