import { describe, expect, it } from 'vitest';
import { fileNameFromUrl, hashPrefixFromFileName, isUrl } from './hash-prefix.js';

describe('hashPrefixFromFileName', () => {
  it("takes torchvision's hash prefix after the last '-'", () => {
    expect(hashPrefixFromFileName('resnet18-f37072fd.pth')).toBe('f37072fd');
    expect(hashPrefixFromFileName('resnet50-11ad3fa6.pth')).toBe('11ad3fa6');
    expect(hashPrefixFromFileName('/models/efficientnet_b0_rwightman-3dd342df.pth')).toBe('3dd342df');
    expect(hashPrefixFromFileName('x-0123456789abcdef.tar.gz')).toBe('0123456789abcdef');
  });

  it('finds none in names without an 8+ digit lower-case hex tail', () => {
    for (const name of [
      'resnet18.pth',
      'model-v2.pth',
      'model-abc123.pth',
      'model-F37072FD.pth',
      'a-f37072fd-final.pth',
    ]) {
      expect(hashPrefixFromFileName(name)).toBeNull();
    }
  });
});

describe('file names from URLs', () => {
  it('takes the last path segment', () => {
    expect(fileNameFromUrl('https://download.pytorch.org/models/resnet18-f37072fd.pth')).toBe(
      'resnet18-f37072fd.pth',
    );
    expect(fileNameFromUrl('http://127.0.0.1:8080/a/b%20c.pth?x=1#y')).toBe('b c.pth');
    expect(() => fileNameFromUrl('https://example.com/models/')).toThrow(/cannot take a file name/);
  });

  it('tells URLs from paths', () => {
    expect(isUrl('https://a/b')).toBe(true);
    expect(isUrl('file:///tmp/x.pth')).toBe(true);
    expect(isUrl('/tmp/x.pth')).toBe(false);
    expect(isUrl('C:\\x.pth')).toBe(false);
  });
});
