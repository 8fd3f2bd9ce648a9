// A tiny element builder. Building nodes (never innerHTML with data) keeps profile names, provider
// messages and URLs from ever being parsed as markup.

/**
 * h('button', {class: 'btn', on: {click}}, 'Label')
 * attrs: class, id, dataset {...}, on {...}, boolean true → empty attribute, false/null → omitted.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  let initialValue;
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === false || value === null || value === undefined) continue;
      if (key === 'value') {
        // Set as a property after children exist, so a <select> can pick among its options.
        initialValue = value;
      } else if (key === 'on') {
        for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
      } else if (key === 'dataset') {
        for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) el.dataset[k] = v;
      } else if (key === 'class') {
        el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      } else if (key === 'text') {
        el.textContent = value;
      } else if (key in el && typeof value !== 'string' && key !== 'list') {
        el[key] = value;
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  if (initialValue !== undefined) el.value = initialValue;
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let seq = 0;
/** Unique ids for label/description wiring where the brief does not fix one. */
export const uid = (prefix = 'el') => `${prefix}-${++seq}`;

/** Provider logo as an <img>; decorative because the provider name is always written next to it. */
export function providerLogo(provider, size = 'md') {
  return h('img', {
    class: ['logo', `logo-${size}`],
    src: provider === 'google' ? 'img/google.svg' : 'img/microsoft.svg',
    alt: '',
    width: size === 'lg' ? 40 : size === 'sm' ? 20 : 32,
    height: size === 'lg' ? 40 : size === 'sm' ? 20 : 32,
  });
}

export const providerName = (p) => (p === 'google' ? 'Google Workspace' : 'Microsoft 365');

/** Debounce that can also be flushed (on blur) or cancelled (when the view closes). */
export function debounce(fn, ms) {
  let timer = null;
  let lastArgs = null;
  const d = (...args) => {
    lastArgs = args;
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...lastArgs); }, ms);
  };
  d.flush = () => { if (timer) { clearTimeout(timer); timer = null; fn(...lastArgs); } };
  d.cancel = () => { clearTimeout(timer); timer = null; };
  return d;
}
