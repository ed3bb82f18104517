// The site theme: VitePress's default theme plus the playground's styles.

import DefaultTheme from 'vitepress/theme';
import './custom.css';

export default DefaultTheme;
