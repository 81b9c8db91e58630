// Counterpart of pkg/probe/exec/exec.go with the kubelet's CRI command runner (kuberuntime RunInContainer,
// remote ExecSync): the command runs in the container through CRI ExecSync with the probe's timeout;
// exit 0 succeeds, another exit code fails with the command's output, a timeout fails with
// `command "..." timed out`.
import { status as grpcStatus } from '@grpc/grpc-js';
import { CriError } from '../cri/remote.js';
import type { RuntimeService } from '../cri/runtime-service.js';
import type { HandlerOutcome } from './probe.js';

export async function doExecProbe(runtime: Pick<RuntimeService, 'execSync'>, containerID: string, cmd: string[], timeoutSeconds: number): Promise<HandlerOutcome> {
  let res;
  try {
    res = await runtime.execSync(containerID, cmd, timeoutSeconds);
  } catch (err) {
    if (err instanceof CriError && err.code === grpcStatus.DEADLINE_EXCEEDED) {
      return { result: 'Failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    }
    throw err;
  }
  const output = Buffer.concat([res.stdout, res.stderr]).toString();
  return { result: res.exitCode === 0 ? 'Success' : 'Failure', output };
}
