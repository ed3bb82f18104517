// The `graft` command line: subcommands, help with examples, one-line errors and exit codes.

import { Command, CommanderError, Option } from 'commander';
import { convertFile } from './commands/convert.js';
import { formatInspect, inspectFile } from './commands/inspect.js';
import { CliError, messageOf } from './errors.js';
import { FINETUNE_OPTIONS, type FinetuneOptions } from './options.js';

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

function write(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}

/** Builds the program; commands load their heavy modules only when they run. */
export function buildProgram(): Command {
  const program = new Command('graft')
    .description(
      'Fine-tune pretrained ResNets (PyTorch checkpoints in, PyTorch checkpoints out), offline, on CPU or WebGPU.',
    )
    .version('0.0.0', '-v, --version')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      examples([
        'graft finetune',
        'graft finetune --data ./flowers --weights imagenet --freeze backbone --epochs 5',
        'graft inspect resnet18-f37072fd.pth',
      ]),
    );

  const finetune = program
    .command('finetune')
    .description(
      'fine-tune a pretrained network on a folder of images or an IDX dataset (no arguments: the offline demo)',
    )
    .option('--config <file>', 'JSON or YAML file with the same keys as the flags (flags override it)');
  for (const spec of FINETUNE_OPTIONS) {
    const arg = spec.kind.type === 'boolean' ? '' : ` <${spec.kind.type === 'choice' ? 'mode' : 'value'}>`;
    const opt = new Option(`--${spec.flag}${arg}`, spec.help);
    if (spec.kind.type === 'choice') opt.choices(spec.kind.values);
    finetune.addOption(opt);
    if (spec.kind.type === 'boolean') finetune.addOption(new Option(`--no-${spec.flag}`).hideHelp());
  }
  finetune
    .addHelpText(
      'after',
      examples([
        'graft finetune                                   # the offline demo: pretrained vs from scratch',
        'graft finetune --data ./pets --weights imagenet --head replace --freeze backbone --epochs 3',
        'graft finetune --data ./pets --weights resnet18-f37072fd.pth --lr 1e-3 --head-lr 1e-2 --scheduler cosine',
        'graft finetune --data fashion-mnist:/usr/share/datasets/fashion-mnist --image-size 32 --epochs 1',
        'graft finetune --config run.yaml --resume runs/a/last.pth',
      ]),
    )
    .action(async (flags: Record<string, unknown>, cmd: Command) => {
      const { runFinetuneCommand } = await import('./commands/finetune.js');
      const given = Object.fromEntries(
        Object.keys(flags)
          .filter((k) => cmd.getOptionValueSource(k) === 'cli')
          .map((k) => [k, flags[k]]),
      ) as Partial<Record<keyof FinetuneOptions | 'config', unknown>>;
      await runFinetuneCommand(given);
    });

  program
    .command('evaluate')
    .description(
      'accuracy, per-class precision/recall and the confusion matrix of a fine-tuned run on a dataset',
    )
    .requiredOption('--run <dir>', 'a finetune output folder (uses its config.json and best.safetensors)')
    .option('--data <dir>', "data to evaluate on (default: the run's validation data)")
    .option('--checkpoint <file>', 'weights to evaluate (default: RUN/best.safetensors)')
    .option('--batch-size <n>', 'batch size', '64')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(['graft evaluate --run runs/demo', 'graft evaluate --run runs/demo --data ./holdout --json']),
    )
    .action(
      async (opts: {
        run: string;
        data?: string;
        checkpoint?: string;
        batchSize: string;
        json?: boolean;
      }) => {
        const { runEvaluate } = await import('./commands/evaluate.js');
        await runEvaluate(opts);
      },
    );

  program
    .command('predict')
    .description('top-k labels with probabilities for images')
    .argument('<images...>', 'image files (png, jpg, webp)')
    .option('--run <dir>', 'a finetune output folder (class names and weights from it)')
    .option(
      '--weights <file|imagenet>',
      "weights without a run: a checkpoint or 'imagenet' (ImageNet class names)",
    )
    .option('--model <name>', 'architecture when using --weights', 'resnet18')
    .option('--top <k>', 'how many labels', '5')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples([
        'graft predict --run runs/demo shoe.png bag.jpg',
        'graft predict --weights imagenet --top 3 cat.jpg',
      ]),
    )
    .action(
      async (
        images: string[],
        opts: { run?: string; weights?: string; model: string; top: string; json?: boolean },
      ) => {
        const { runPredict } = await import('./commands/predict.js');
        await runPredict(images, opts);
      },
    );

  program
    .command('inspect')
    .description('keys, shapes, dtypes, parameter count and format of a .pth/.pt or .safetensors file')
    .argument('<file>', 'checkpoint')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(['graft inspect resnet18-f37072fd.pth', 'graft inspect runs/demo/best.safetensors --json']),
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const r = await inspectFile(file);
      write(opts.json ? JSON.stringify(r, null, 2) : formatInspect(r));
    });

  program
    .command('convert')
    .description('convert model weights between PyTorch .pth and safetensors')
    .argument('<input>', '.pth/.pt/.safetensors file (a training checkpoint: its model entry)')
    .argument('<output>', 'file to write; the format comes from its extension')
    .addHelpText(
      'after',
      examples([
        'graft convert resnet18-f37072fd.pth resnet18.safetensors',
        'graft convert runs/demo/last.pth model.safetensors',
      ]),
    )
    .action(async (input: string, output: string) => {
      const r = await convertFile(input, output);
      write(`wrote ${output} (${r.format}, ${r.tensors} tensors)`);
    });

  program
    .command('export-torch')
    .description(
      "write a PyTorch script beside a run's checkpoint that restores its model, optimizer and schedule and continues training (python or torchrun)",
    )
    .argument('<run>', 'a finetune output folder')
    .option('--checkpoint <file>', 'checkpoint to continue from (default: RUN/last.pth)')
    .option('--output <file>', 'script to write (default: RUN/train_torch.py)')
    .addHelpText(
      'after',
      examples([
        'graft export-torch runs/flowers && python runs/flowers/train_torch.py --epochs 10',
        'torchrun --nproc_per_node 4 runs/flowers/train_torch.py',
      ]),
    )
    .action(async (run: string, opts: { checkpoint?: string; output?: string }) => {
      const { runExportTorch } = await import('./commands/export-torch.js');
      const path = await runExportTorch(run, opts);
      write(`wrote ${path}; run it with: python ${path}  (or torchrun --nproc_per_node N ${path})`);
    });

  program
    .command('summary')
    .description(
      'the printed module tree and trainable/frozen parameter counts for a model, head and freeze choice',
    )
    .argument('[model]', 'resnet18, resnet34 or resnet50', 'resnet18')
    .option('--num-classes <n>', 'classes of the new head', '1000')
    .option('--head <mode>', "'replace' or 'cut'", 'replace')
    .option('--freeze <spec>', "'none', 'backbone' or name prefixes", 'none')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples([
        'graft summary resnet18 --num-classes 5 --freeze backbone',
        'graft summary resnet50 --head cut --freeze layer1,layer2',
      ]),
    )
    .action(
      async (model: string, opts: { numClasses: string; head: string; freeze: string; json?: boolean }) => {
        const { runSummary } = await import('./commands/summary.js');
        await runSummary(model, opts);
      },
    );

  const weights = program
    .command('weights')
    .description("torchvision's pretrained weights: list them, or download one into graft's cache");
  weights
    .command('list')
    .description('the registry of pretrained weights and whether each is cached')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { runWeightsList } = await import('./commands/weights.js');
      await runWeightsList(opts);
    });
  weights
    .command('download')
    .description(
      "download weights into graft's cache ($GRAFT_HOME, default ~/.cache/graft), checking the hash",
    )
    .argument('<name>', "registry entry, e.g. ResNet18_Weights.IMAGENET1K_V1 or 'resnet18'")
    .addHelpText(
      'after',
      examples(['graft weights download resnet18', 'graft weights download ResNet50_Weights.IMAGENET1K_V2']),
    )
    .action(async (name: string) => {
      const { runWeightsDownload } = await import('./commands/weights.js');
      await runWeightsDownload(name);
    });
  return program;
}

/** Runs the CLI; returns the exit code. Errors print as one line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.commands.forEach(function override(c: Command): void {
    c.exitOverride();
    c.commands.forEach(override);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command may set a status of its own (130 after Ctrl-C).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (process.env.GRAFT_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.stderr.write(`graft: error: ${messageOf(e).split('\n').join(' ')}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}
