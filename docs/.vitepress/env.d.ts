// Lets TypeScript (tsc -p docs) type-check the site's .ts files that import Vue components.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';

  const component: DefineComponent<object, object, unknown>;
  export default component;
}
